package webhook

// Control is the dial-time check, for the tests.
func (c *Client) Control(address string) error { return c.control("tcp", address, nil) }
