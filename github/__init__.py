"""The GitHub crawler app: models, API, client, quota ledger, sync services and tasks."""
