# Repeats that cannot be shown to end, and counts that are not counts.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "poll" {
  repeat {
    while = capture.state != "done"
    http "a" { path = "/a" }
  }
  repeat {
    count = 0
    http "b" { path = "/b" }
  }
  repeat {
    count = 2.5
    http "c" { path = "/c" }
  }
  repeat {
    count = 3
    while = true
    max   = 4
    http "d" { path = "/d" }
  }
  repeat {
    http "e" { path = "/e" }
  }
  repeat {
    count = iter
    http "f" { path = "/f" }
  }
  repeat {
    count = 2
    max   = 3
    http "g" { path = "/g" }
  }
  repeat {
    count = 2
  }
  repeat {
    until = capture.done == "yes"
    http "h" {
      path = "/h"
      capture "done" { json = "done" }
    }
  }
  repeat {
    count = 2
    until = true
    http "i" { path = "/i" }
  }
}
