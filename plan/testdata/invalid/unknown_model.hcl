# A misspelt load model.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  model = "user"
  stage {
    duration = "1m"
    target   = 20
  }
}
