# Durations past a year (or past what time.Duration holds) are refused, and so are stages that add
# up past a year.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}

load {
  graceful_stop = "9000h"
  stage {
    duration = "5000h"
    target   = 10
  }
  stage {
    duration = "5000h"
    target   = 10
  }
  stage {
    duration = "99999999999h"
    target   = 10
  }
}
