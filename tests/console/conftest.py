"""The web console in a real browser: Debian's chromium driven by Selenium (chromium-driver),
against a real coc-local (which serves the console it embedded at build time) and real coc-agent
processes. Binaries come from COC_LOCAL_BIN, COC_ADMIN_BIN and COC_AGENT_BIN (`make test` builds
them after `make console`); screenshots go to COC_SCREENSHOT_DIR (default target/console-screenshots).
"""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

DATA_DIR = tempfile.mkdtemp(prefix="coc-console-data-")
SCREENSHOTS = Path(os.environ.get("COC_SCREENSHOT_DIR", "target/console-screenshots"))
WAIT_SECONDS = 30


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = dict(os.environ, COC_DATA_DIR=DATA_DIR, RUST_LOG="warn")
    for name in ("COC_TABLE_NAME", "COC_QUEUE_URL", "COC_NOTIFY_QUEUE_URL", "COC_KMS_KEY_ID", "COC_KEY_FILE",
                 "COC_ATTACHMENTS_BUCKET", "COC_PUBLIC_HOSTS", "COC_AK", "COC_SK", "COC_PROJECT_ID"):
        env.pop(name, None)
    env.update(extra)
    return env


def admin(*args):
    """The operator CLI on the server's store; its JSON output."""
    binary = os.environ.get("COC_ADMIN_BIN", "target/debug/coc-admin")
    done = subprocess.run([binary, *args], env=_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"coc-admin {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def endpoint():
    port = _free_port()
    process = subprocess.Popen([os.environ.get("COC_LOCAL_BIN", "target/debug/coc-local")],
                               env=_env(COC_LISTEN=f"127.0.0.1:{port}"), stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/console/", timeout=1) as answer:
                assert answer.status == 200, "the console must be built (make console) before coc-local"
            break
        except urllib.error.HTTPError as refused:
            raise RuntimeError(f"/console/ answered {refused.code}: run `make console`, then build coc-local")
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("coc-local did not start")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def tenant(endpoint, tmp_path):
    """A fresh project: an operator's access key and two registered agents (hosts)."""
    project = uuid.uuid4().hex
    key = admin("create-credential", "--project-id", project, "--user-id", "ops-1", "--user-name", "ops")
    activation = admin("create-activation", "--project-id", project, "--max-registrations", "2")
    agents = []
    for n in (1, 2):
        sn = f"web-{n}-{uuid.uuid4().hex[:6]}"
        env = _env(COC_ENDPOINT=endpoint, COC_ACTIVATION_ID=activation["activation_id"],
                   COC_ACTIVATION_CODE=activation["activation_code"], COC_AGENT_SN=sn,
                   COC_AGENT_STATE_DIR=str(tmp_path / sn), COC_HEARTBEAT_SECS="1")
        agents.append((sn, subprocess.Popen([os.environ.get("COC_AGENT_BIN", "target/debug/coc-agent")], env=env)))
    yield {"key": key, "agents": [sn for sn, _ in agents]}
    for _, process in agents:
        process.kill()
        process.wait()


@pytest.fixture
def browser():
    """Debian's chromium, headless, with a fresh profile; its console log is kept for CSP checks."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("COC_CHROMIUM", "/usr/bin/chromium")
    profile = tempfile.mkdtemp(prefix="coc-console-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1440,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("COC_CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait_for(driver, check, what, seconds=WAIT_SECONDS):
    """Polls `check(driver)` until it is truthy; returns it."""
    return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: check(d), message=f"never: {what}")


def field(driver, label):
    """The input a visible <label> names (Mantine ties them with for/id): the label is `label`, maybe with the
    required mark or a parenthesis after it ("Mobile (E.164…)"), so "Title" never finds "Title contains"."""
    name = json.dumps(label)
    xpath = (f"//label[normalize-space(.)={name} or normalize-space(.)=concat({name}, ' *')"
             f" or starts-with(normalize-space(.), concat({name}, ' ('))]")

    def find(d):
        for element in d.find_elements(By.XPATH, xpath):
            target = element.get_attribute("for")
            if target and element.is_displayed():
                return d.find_element(By.ID, target)
        return None
    return wait_for(driver, find, f"a field labelled {label}")


def button(driver, text):
    """An enabled button (or a link drawn as one) whose text is `text`."""
    xpath = (f"//*[self::button or self::a][normalize-space(.)={json.dumps(text)}"
             " and not(@disabled) and not(@data-disabled)]")
    return wait_for(driver, lambda d: next((b for b in d.find_elements(By.XPATH, xpath) if b.is_displayed()), None),
                    f"a button {text}")


def link(driver, text):
    return wait_for(driver, lambda d: next((a for a in d.find_elements(By.LINK_TEXT, text) if a.is_displayed()), None),
                    f"a link {text}")


def text_of(driver, test_id):
    elements = driver.find_elements(By.CSS_SELECTOR, f"[data-testid={json.dumps(test_id)}]")
    return elements[0].text if elements else ""


def type_into(driver, label, text):
    element = field(driver, label)
    # clear() sets the value behind React's back (no input event): select and delete instead.
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.BACKSPACE)
    if text:
        element.send_keys(text)
    return element


def sign_in(driver, endpoint, key):
    driver.get(endpoint + "/")
    type_into(driver, "Access key", key["access_key"])
    type_into(driver, "Secret key", key["secret_key"])
    button(driver, "Sign in").click()
    wait_for(driver, lambda d: text_of(d, "signed-in-as"), "signed in")


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def csp_violations(driver):
    """What the page's console said about the Content-Security-Policy."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test leaves a screenshot of where the browser was (failed-<test>.png)."""
    outcome = yield
    report = outcome.get_result()
    driver = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and driver is not None:
        screenshot(driver, f"failed-{item.name}")
