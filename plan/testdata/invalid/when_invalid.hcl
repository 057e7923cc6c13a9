# when conditions that are not true or false, read what they cannot, or never hold.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  setup {
    http "login" {
      when = "yes"
      path = "/login"
    }
  }
  http "a" {
    when = capture.x == "1"
    path = "/a"
    capture "x" { json = "x" }
  }
  http "b" {
    when = 1 == 2
    path = "/b"
  }
  http "c" {
    when = [iter]
    path = "/c"
  }
  task "t" {
    when = capture.x == "1"
    http "d" { path = "/d" }
  }
}
