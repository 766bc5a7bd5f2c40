"""The Db2 logs in CloudWatch Logs: Live Tail and its polling fallback, Logs Insights, the log view-model,
db2diag reading for bulk loads, the CloudWatch filter-pattern evaluator, and `db2ops parse` / `filter-test`."""
