# No data block is named "symbol".
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "symbols" { csv = "symbols.csv" }
scenario "rest" {
  http "quote" { path = "/api/stocks/${data.symbol.symbol}" }
}
