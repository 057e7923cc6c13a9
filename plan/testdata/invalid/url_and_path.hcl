# url and path are alternatives.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" {
    url  = "http://127.0.0.1:8000/api/health"
    path = "/api/health"
  }
}
