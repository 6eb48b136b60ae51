package config

import (
	"reflect"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	c := Default()
	if errs := Validate(c); len(errs) > 0 {
		t.Fatalf("Default() is invalid: %v", errs)
	}
	want := &Configuration{
		APIVersion: APIVersion,
		Kind:       Kind,
		Unknown:    UnknownAllow,
		Registry: RegistryConfig{
			Timeout:      NewDuration(2 * time.Second),
			CacheEntries: 10000,
			CacheBytes:   NewByteSize(64 << 20),
			MaxSBOMBytes: NewByteSize(64 << 20),
			Layers: LayersConfig{
				Mode: "auto", Platforms: []string{"linux/amd64", "linux/arm64"},
				MaxCompressedBytes: NewByteSize(2 << 30), MaxFileBytes: NewByteSize(64 << 20),
				Timeout: NewDuration(5 * time.Minute), Concurrency: 2, QueueSize: 256,
			},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Default() = %+v, want %+v", c, want)
	}
	if _, err := c.Catalog(); err != nil {
		t.Errorf("Default().Catalog(): %v", err)
	}
	if x, err := c.Exemptions.Compile(); err != nil || x.Namespace("kube-system") != "" {
		t.Errorf("Default() exemptions: %v, %v", x, err)
	}
}

func TestSetDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Configuration
		want Configuration
	}{
		{
			name: "empty gets every default",
			in:   Configuration{},
			want: Configuration{Unknown: UnknownAllow, Registry: RegistryConfig{
				Timeout: NewDuration(DefaultRegistryTimeout), CacheEntries: DefaultCacheEntries, CacheBytes: NewByteSize(DefaultCacheBytes),
				MaxSBOMBytes: NewByteSize(DefaultMaxSBOMBytes), Layers: defaultLayers(),
			}},
		},
		{
			name: "set values are kept",
			in: Configuration{Unknown: UnknownDeny, Registry: RegistryConfig{
				Timeout: NewDuration(time.Second), CacheEntries: 5, CacheBytes: NewByteSize(1 << 10), MaxSBOMBytes: NewByteSize(2 << 10),
				Layers: setLayers(),
			}},
			want: Configuration{Unknown: UnknownDeny, Registry: RegistryConfig{
				Timeout: NewDuration(time.Second), CacheEntries: 5, CacheBytes: NewByteSize(1 << 10), MaxSBOMBytes: NewByteSize(2 << 10),
				Layers: setLayers(),
			}},
		},
		{
			name: "invalid values are kept for Validate to report",
			in: Configuration{Unknown: "maybe", Registry: RegistryConfig{
				Timeout: Duration{invalid: "2 seconds"}, CacheEntries: -1, CacheBytes: ByteSize{invalid: "lots"}, MaxSBOMBytes: ByteSize{invalid: "big"},
				Layers: invalidLayers(),
			}},
			want: Configuration{Unknown: "maybe", Registry: RegistryConfig{
				Timeout: Duration{invalid: "2 seconds"}, CacheEntries: -1, CacheBytes: ByteSize{invalid: "lots"}, MaxSBOMBytes: ByteSize{invalid: "big"},
				Layers: invalidLayers(),
			}},
		},
		{
			name: "apiVersion and kind are not defaulted",
			in:   Configuration{Unknown: UnknownWarn},
			want: Configuration{Unknown: UnknownWarn, Registry: RegistryConfig{
				Timeout: NewDuration(DefaultRegistryTimeout), CacheEntries: DefaultCacheEntries, CacheBytes: NewByteSize(DefaultCacheBytes),
				MaxSBOMBytes: NewByteSize(DefaultMaxSBOMBytes), Layers: defaultLayers(),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			SetDefaults(&got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SetDefaults = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func defaultLayers() LayersConfig {
	return LayersConfig{
		Mode: DefaultLayersMode, Platforms: DefaultLayersPlatforms,
		MaxCompressedBytes: NewByteSize(DefaultLayersMaxCompressedBytes), MaxFileBytes: NewByteSize(DefaultLayersMaxFileBytes),
		Timeout: NewDuration(DefaultLayersTimeout), Concurrency: DefaultLayersConcurrency, QueueSize: DefaultLayersQueueSize,
	}
}

func setLayers() LayersConfig {
	return LayersConfig{
		Mode: LayersNever, Platforms: []string{"linux/s390x"},
		MaxCompressedBytes: NewByteSize(3 << 20), MaxFileBytes: NewByteSize(2 << 20),
		Timeout: NewDuration(time.Minute), Concurrency: 7, QueueSize: 9,
	}
}

func invalidLayers() LayersConfig {
	return LayersConfig{
		Mode: "sometimes", Platforms: []string{},
		MaxCompressedBytes: ByteSize{invalid: "huge"}, MaxFileBytes: ByteSize{invalid: "x"},
		Timeout: Duration{invalid: "ages"}, Concurrency: -1, QueueSize: -2,
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	c := mustParse(t, "")
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Parse(header) = %+v, want Default() %+v", c, Default())
	}
}

func TestUnits(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		timeout   time.Duration
		bytes     int64
		wantError string
	}{
		{name: "duration and quantity", body: "registry: {timeout: 500ms, cacheBytes: 1Gi}", timeout: 500 * time.Millisecond, bytes: 1 << 30},
		{name: "integer bytes", body: "registry: {cacheBytes: 65536}", timeout: 2 * time.Second, bytes: 65536},
		{name: "quoted integer bytes", body: `registry: {cacheBytes: "4096"}`, timeout: 2 * time.Second, bytes: 4096},
		{name: "decimal quantity", body: "registry: {cacheBytes: 500M}", timeout: 2 * time.Second, bytes: 500_000_000},
		{name: "fractional quantity that is whole", body: "registry: {cacheBytes: 0.5Ki}", timeout: 2 * time.Second, bytes: 512},
		{name: "null is unset", body: "registry: {timeout: null, cacheBytes: null}", timeout: 2 * time.Second, bytes: 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.body)
			if c.Registry.Timeout.Duration != tt.timeout || c.Registry.CacheBytes.Bytes != tt.bytes {
				t.Errorf("timeout %v, bytes %d; want %v, %d", c.Registry.Timeout, c.Registry.CacheBytes.Bytes, tt.timeout, tt.bytes)
			}
		})
	}
}

func TestUnitsMarshal(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"duration", NewDuration(1500 * time.Millisecond), `"1.5s"`},
		{"binary size", NewByteSize(64 << 20), `"64Mi"`},
		{"plain size", NewByteSize(1500), `"1500"`},
		{"invalid duration kept", Duration{invalid: "soon"}, `"soon"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := jsonMarshal(tt.v)
			if err != nil || string(b) != tt.want {
				t.Errorf("Marshal = %s, %v; want %s", b, err, tt.want)
			}
		})
	}
}
