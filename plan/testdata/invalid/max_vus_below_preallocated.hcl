# max_vus cannot be below pre_allocated_vus.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  model             = "arrival_rate"
  pre_allocated_vus = 50
  max_vus           = 10
  stage {
    duration = "1m"
    target   = 20
  }
}
