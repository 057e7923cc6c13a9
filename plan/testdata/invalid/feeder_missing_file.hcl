# The CSV file does not exist.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "users" { csv = "no-such-file.csv" }
scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = data.users.name }
  }
}
