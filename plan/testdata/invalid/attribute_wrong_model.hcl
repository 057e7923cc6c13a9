# rate belongs to the arrival_rate model.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  rate     = 10
  duration = "1m"
}
