# Nested repeats whose counts multiply past the bound, and nesting past the depth bound.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "loops" {
  repeat {
    count = 1000
    repeat {
      count = 1000
      repeat {
        count = 2
        http "a" { path = "/a" }
      }
    }
  }
  repeat {
    count = 2000000
    http "b" { path = "/b" }
  }
  repeat {
    count = 1
    repeat {
      count = 1
      repeat {
        count = 1
        repeat {
          count = 1
          repeat {
            count = 1
            repeat {
              count = 1
              repeat {
                count = 1
                repeat {
                  count = 1
                  repeat {
                    count = 1
                    http "c" { path = "/c" }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
