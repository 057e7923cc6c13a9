# The load has two stages, not five.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  stage {
    duration = "1m"
    target   = 10
  }
  stage {
    duration = "1m"
    target   = 0
  }
}
threshold "http_req_duration" {
  condition = "p(95) < 300ms"
  stage     = 5
}
