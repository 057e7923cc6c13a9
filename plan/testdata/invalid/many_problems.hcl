# One run reports every problem, not only the first.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  target = target.apx
  http "health" {
    methd = "GET"
    path  = "/api/health"
    timeout = "5 seconds"
  }
}
load {
  stage {
    duration = "1m"
    target   = -1
  }
}
threshold "http_reqs" { condition = "count >" }
output "csvv" {}
