# The CSV file has a header but no rows.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "users" { csv = "header_only.csv" }
scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = data.users.user }
  }
}
