# A Locust runner's --spawn-rate written into the load block.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  http "health" { path = "/api/health" }
}

load {
  vus        = 100
  duration   = "1m"
  spawn_rate = 10
}
