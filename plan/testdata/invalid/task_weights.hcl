# Task weights that are not shares, a task without steps, a duplicate, and steps beside tasks.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  http "outside" { path = "/outside" }

  task "zero" {
    weight = 0
    http "a" { path = "/a" }
  }
  task "negative" {
    weight = -2
    http "b" { path = "/b" }
  }
  task "huge" {
    weight = 1e400
    http "c" { path = "/c" }
  }
  task "text" {
    weight = "heavy"
    http "d" { path = "/d" }
  }
  task "empty" {
    weight = 1
  }
  task "zero" {
    http "e" { path = "/e" }
  }
}
