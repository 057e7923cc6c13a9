# A path needs a target to join it to.
scenario "rest" {
  http "health" { path = "/api/health" }
}
