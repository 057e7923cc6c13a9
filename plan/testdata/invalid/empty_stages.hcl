# A users load with nothing in it.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  graceful_stop = "5s"
}
