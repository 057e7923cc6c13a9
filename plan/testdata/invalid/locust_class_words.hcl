# The attributes of a Locust user class written into a scenario.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  host     = "http://127.0.0.1:8000"
  tasks    = ["browse", "order"]
  min_wait = 1000
  max_wait = 3000
  http "health" { path = "/api/health" }
}
