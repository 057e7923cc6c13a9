# Two local values that depend on each other.
locals {
  a = "${local.b}/x"
  b = "${local.a}/y"
}
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = local.a }
}
