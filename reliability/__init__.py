"""The long reliability runs behind RELIABILITY.md (faults, quota, load) and what they share with the CI tests."""
