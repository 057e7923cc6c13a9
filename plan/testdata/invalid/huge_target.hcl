# A typo made a stage target astronomically large.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}

load {
  stage {
    duration = "1m"
    target   = 1e400
  }
}
