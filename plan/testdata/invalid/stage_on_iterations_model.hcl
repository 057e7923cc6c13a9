# Stages do not apply to a fixed number of iterations.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 10
  stage {
    duration = "1m"
    target   = 10
  }
}
