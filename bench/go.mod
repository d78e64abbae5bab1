module github.com/kvdict/kvdict/bench

go 1.26.0

replace github.com/kvdict/kvdict => ../
