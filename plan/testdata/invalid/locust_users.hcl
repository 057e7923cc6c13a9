# A Locust runner's --users written into the load block.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  http "health" { path = "/api/health" }
}

load {
  users    = 100
  duration = "1m"
}
