# A misspelt feeder mode.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "symbols" {
  csv  = "symbols.csv"
  mode = "sequental"
}
scenario "rest" {
  http "quote" { path = "/api/stocks/${data.symbols.symbol}" }
}
