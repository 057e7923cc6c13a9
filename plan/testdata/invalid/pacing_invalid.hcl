# pacing and iterations_per_second: together, out of range, and under an arrival rate.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "both" {
  pacing                = "2s"
  iterations_per_second = 0.5
  http "a" { path = "/a" }
}

scenario "zero" {
  pacing = "0s"
  http "b" { path = "/b" }
}

scenario "fast" {
  iterations_per_second = 5000
  http "c" { path = "/c" }
}

scenario "negative" {
  iterations_per_second = -1
  http "d" { path = "/d" }
}

scenario "open" {
  pacing = "1s"
  http "e" { path = "/e" }
  load {
    model = "arrival_rate"
    rate  = 10
    duration = "1m"
  }
}
