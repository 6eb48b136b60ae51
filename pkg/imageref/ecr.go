package imageref

import "strings"

// ECRRegistry recognises an Amazon ECR private registry host,
// "<12-digit account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]", and
// also the dual-stack form "<account>.dkr-ecr[-fips].<region>.on.aws".
// It returns the account and the region (lowercased). host must not carry
// a port. Matching is case-insensitive. Public ECR (public.ecr.aws) is not
// a private registry and returns ok false.
func ECRRegistry(host string) (account, region string, ok bool) {
	account, rest, _ := strings.Cut(host, ".")
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", false
	}
	var svc, svc2 string
	svc, rest, _ = strings.Cut(rest, ".")
	dualStack := false
	switch {
	case strings.EqualFold(svc, "dkr-ecr"), strings.EqualFold(svc, "dkr-ecr-fips"):
		dualStack = true
	case strings.EqualFold(svc, "dkr"):
		svc2, rest, _ = strings.Cut(rest, ".")
		if !strings.EqualFold(svc2, "ecr") && !strings.EqualFold(svc2, "ecr-fips") {
			return "", "", false
		}
	default:
		return "", "", false
	}
	region, rest, _ = strings.Cut(rest, ".")
	region = strings.ToLower(region)
	if !isAWSRegion(region) {
		return "", "", false
	}
	if dualStack {
		ok = strings.EqualFold(rest, "on.aws")
	} else {
		ok = strings.EqualFold(rest, "amazonaws.com") || strings.EqualFold(rest, "amazonaws.com.cn")
	}
	if !ok {
		return "", "", false
	}
	return account, region, true
}

// isAWSRegion reports whether r looks like an AWS region code: two
// letters, one or more letter words and a number, joined by '-'
// ("us-west-2", "us-gov-west-1", "cn-north-1").
func isAWSRegion(r string) bool {
	parts := 0
	for rest := r; ; {
		var p string
		var more bool
		p, rest, more = strings.Cut(rest, "-")
		parts++
		switch {
		case p == "":
			return false
		case parts == 1:
			if len(p) != 2 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
				return false
			}
		case !more:
			return parts >= 3 && strings.Trim(p, "0123456789") == ""
		default:
			if strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
				return false
			}
		}
		if !more {
			return false
		}
	}
}
