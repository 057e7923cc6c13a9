# Every check of an output block's attributes, each reported at its own line and column. The
# checks belong to the output kinds (outputs/csv, jsonl, prometheus, influxdb); validate runs them.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}

output "csv" {
  path       = ""
  aggregated = "yes"
  colour     = "blue"
}

output "json" {
  path = ""
}

output "prometheus" {
  listen       = "9646"
  linger       = "5 minutes"
  push_gateway = "127.0.0.1:9091"
  testid       = ["a"]
}

output "influxdb" {
  url            = "ftp://127.0.0.1:8086"
  batch_size     = 0
  flush_interval = "0s"
  required       = "maybe"
}

output "influxdb" {
  bucket     = "loadplan"
  batch_size = 2.5
}
