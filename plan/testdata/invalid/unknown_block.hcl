# A typo in a block type.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenerio "rest" {
  http "health" { path = "/api/health" }
}
