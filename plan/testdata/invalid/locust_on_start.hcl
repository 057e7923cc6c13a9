# Locust's on_start and on_stop as blocks of a scenario.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  on_start {
    http "login" { path = "/api/login" }
  }
  http "health" { path = "/api/health" }
  on_stop {
    http "logout" { path = "/api/logout" }
  }
}
