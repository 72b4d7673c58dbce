import { deepStrictEqual as eq } from "node:assert/strict";
import { deviceName } from "./device.ts";

Deno.test("deviceName() names common browsers and systems", () => {
  eq(
    deviceName(
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    "Chrome on Linux",
  );
  eq(
    deviceName("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"),
    "Firefox on Windows",
  );
  eq(
    deviceName(
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    ),
    "Safari on iPhone",
  );
  eq(
    deviceName(
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    ),
    "Edge on Windows",
  );
});

Deno.test("deviceName() says so when it cannot tell", () => {
  eq(deviceName(undefined), "Unknown device");
  eq(deviceName("something else"), "Unknown device");
  eq(deviceName("Deno/2.9.6"), "Deno");
});
