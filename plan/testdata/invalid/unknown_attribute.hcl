# A typo in an attribute name.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "login" {
    methd = "POST"
    path  = "/api/login"
  }
}
