# VU counts a typo away from sane: each is a diagnostic at the attribute, not an OOM at apply.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "users" {
  http "health" { path = "/api/health" }
  load {
    start_vus = 5e6
    stage {
      duration = "1m"
      target   = 1e9
    }
  }
}

scenario "open" {
  http "health" { path = "/api/health" }
  load {
    model             = "arrival_rate"
    rate              = 100
    time_unit         = "1ns"
    duration          = "1m"
    pre_allocated_vus = 1e9
    max_vus           = 1e12
  }
}

scenario "batch" {
  http "health" { path = "/api/health" }
  load {
    model        = "per_vu_iterations"
    vus          = 2000000.5
    iterations   = 10
    max_duration = "3000000h"
  }
}
