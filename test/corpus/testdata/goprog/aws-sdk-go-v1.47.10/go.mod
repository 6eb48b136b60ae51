module example.com/corpus/aws-sdk-go-v1.47.10

go 1.26.0

require github.com/aws/aws-sdk-go v1.47.10

require github.com/jmespath/go-jmespath v0.4.0 // indirect
