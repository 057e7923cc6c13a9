# A variable without default and without a value.
variable "host" {
  type = string
}
target "api" { base_url = var.host }
scenario "rest" {
  http "health" { path = "/api/health" }
}
