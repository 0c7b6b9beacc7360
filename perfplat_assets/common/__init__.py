"""Helpers shared by every domain. Plain Python: `months` (the one `Month`), `columns` (figures to a store
row and back), `rounding`, `sql`, `database`, `errors`, `files` (bounded reads of a file perfplat is
handed), `json_input`, `network` (the loopback test) and `sqs` (the SQS client builder). Dagster-facing:
`sql_source` (the source-database resource base), `sources` (what a source resource says of itself) and
`metadata`."""
