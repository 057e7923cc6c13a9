# A misspelt variable.
variable "host" { default = "http://127.0.0.1:8000" }
target "api" { base_url = var.hots }
scenario "rest" {
  http "health" { path = "/api/health" }
}
