# env() of an unset variable without a default.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${env("LOADPLAN_TEST_UNSET_TOKEN")}" }
  }
}
