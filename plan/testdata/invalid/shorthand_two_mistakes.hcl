# Both halves of a constant load are wrong: one run reports both.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "x" {
  target = target.api
  http "a" {
    path = "/"
  }
}

load {
  vus      = -3
  duration = "10x"
}
