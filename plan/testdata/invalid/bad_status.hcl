# "2xxx" is neither a status, a class nor a range.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" {
    path = "/api/health"
    check { status = "2xxx" }
  }
}
