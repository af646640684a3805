// KofuHTTPClient
