# There is no "user" namespace; the VU number is vu.id.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "u${user.id}" }
  }
}
