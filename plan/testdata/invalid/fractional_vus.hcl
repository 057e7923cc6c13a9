# Users come whole.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  stage {
    duration = "10s"
    target   = 2.5
  }
}
