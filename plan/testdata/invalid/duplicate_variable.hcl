# A variable declared twice.
variable "host" { default = "http://127.0.0.1:8000" }
variable "host" { default = "http://127.0.0.1:9000" }
target "api" { base_url = var.host }
scenario "rest" {
  http "health" { path = "/api/health" }
}
