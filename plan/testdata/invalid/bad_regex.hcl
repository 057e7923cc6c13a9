# An unbalanced parenthesis in a regular expression.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" {
    path = "/api/health"
    check { body_matches = "status\":(\"ok\"" }
  }
}
