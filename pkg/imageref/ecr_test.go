package imageref

import "testing"

func TestECRRegistry(t *testing.T) {
	tests := []struct {
		name                string
		host                string
		wantAccount, region string
		wantOK              bool
	}{
		{"commercial", "602401143452.dkr.ecr.us-west-2.amazonaws.com", "602401143452", "us-west-2", true},
		{"china", "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn", "918309763551", "cn-north-1", true},
		{"govcloud", "013241004608.dkr.ecr.us-gov-west-1.amazonaws.com", "013241004608", "us-gov-west-1", true},
		{"fips", "602401143452.dkr.ecr-fips.us-east-1.amazonaws.com", "602401143452", "us-east-1", true},
		{"dual-stack", "602401143452.dkr-ecr.us-east-1.on.aws", "602401143452", "us-east-1", true},
		{"dual-stack fips", "602401143452.dkr-ecr-fips.us-east-1.on.aws", "602401143452", "us-east-1", true},
		{"upper case", "602401143452.DKR.ECR.US-WEST-2.AMAZONAWS.COM", "602401143452", "us-west-2", true},
		{"public ECR", "public.ecr.aws", "", "", false},
		{"docker hub", "docker.io", "", "", false},
		{"short account", "60240114345.dkr.ecr.us-west-2.amazonaws.com", "", "", false},
		{"letters in account", "60240114345x.dkr.ecr.us-west-2.amazonaws.com", "", "", false},
		{"with port", "602401143452.dkr.ecr.us-west-2.amazonaws.com:443", "", "", false},
		{"wrong suffix", "602401143452.dkr.ecr.us-west-2.amazonaws.org", "", "", false},
		{"dual-stack with amazonaws suffix", "602401143452.dkr-ecr.us-west-2.amazonaws.com", "", "", false},
		{"classic with on.aws suffix", "602401143452.dkr.ecr.us-west-2.on.aws", "", "", false},
		{"not a region", "602401143452.dkr.ecr.uswest2.amazonaws.com", "", "", false},
		{"region without number", "602401143452.dkr.ecr.us-west.amazonaws.com", "", "", false},
		{"missing region", "602401143452.dkr.ecr.amazonaws.com", "", "", false},
		{"not ECR", "602401143452.dkr.ecs.us-west-2.amazonaws.com", "", "", false},
		{"empty", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account, region, ok := ECRRegistry(tt.host)
			if account != tt.wantAccount || region != tt.region || ok != tt.wantOK {
				t.Errorf("ECRRegistry(%q) = %q, %q, %v; want %q, %q, %v",
					tt.host, account, region, ok, tt.wantAccount, tt.region, tt.wantOK)
			}
		})
	}
}
