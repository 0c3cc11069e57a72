#!/usr/bin/env node
// Runs the artoken binary that npm installed for this platform (one of the optional
// dependencies), with this process's arguments, stdio, exit code and signals.
"use strict";

const { spawn } = require("node:child_process");

const PACKAGES = {
  "darwin arm64": "@artoken/darwin-arm64",
  "darwin x64": "@artoken/darwin-x64",
  "linux arm64": "@artoken/linux-arm64-gnu",
  "linux x64": "@artoken/linux-x64-gnu",
};

function fail(message) {
  process.stderr.write(`artoken: error: ${message}\n`);
  process.exit(1);
}

function isMusl() {
  try {
    return !process.report.getReport().header.glibcVersionRuntime;
  } catch {
    return false;
  }
}

function binaryPath() {
  if (process.env.ARTOKEN_BINARY) {
    return process.env.ARTOKEN_BINARY;
  }
  const platform = `${process.platform} ${process.arch}`;
  const pkg = PACKAGES[platform];
  if (!pkg) {
    fail(
      `no artoken build for ${platform} on npm (there is one for: ${Object.keys(PACKAGES).join(", ")}); ` +
        "install from source with `cargo install --locked artoken` and set ARTOKEN_BINARY",
    );
  }
  if (process.platform === "linux" && isMusl()) {
    fail("the Linux build of artoken needs glibc 2.17 or newer; this system uses musl (Alpine)");
  }
  try {
    return require.resolve(`${pkg}/bin/artoken`);
  } catch {
    fail(
      `${pkg} is not installed: npm skipped the optional dependency that holds the binary ` +
        "(--omit=optional, --no-optional, or a lock file made on another platform); reinstall artoken",
    );
  }
}

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: "inherit" });
const forward = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
for (const signal of forward) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (err) => fail(`cannot run ${child.spawnfile}: ${err.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so the caller sees what the binary saw.
    for (const s of forward) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code === null ? 1 : code);
});
