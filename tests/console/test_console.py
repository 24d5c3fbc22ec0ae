"""The console's main paths, as an operator goes through them in a browser."""
import json
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import (admin, button, csp_violations, field, link, screenshot, sign_in, text_of, type_into,
                      wait_for)

MARKUP_LOG = '<script>window.__pwned = 1</script><b>not bold</b>'
MARKUP_TITLE = '<img src=x onerror="window.__pwned=1"><b>db down</b>'


def session_storage(driver):
    return driver.execute_script("return JSON.stringify(Object.assign({}, sessionStorage, localStorage))")


def test_sign_in_keeps_only_the_token_and_sign_out_forgets_it(endpoint, tenant, browser):
    key = tenant["key"]
    browser.get(endpoint + "/")
    assert browser.current_url == endpoint + "/console/"
    type_into(browser, "Access key", key["access_key"])
    type_into(browser, "Secret key", "not-the-secret")
    button(browser, "Sign in").click()
    wait_for(browser, lambda d: "signature" in d.find_element(By.CSS_SELECTOR, "[role=alert]").text.lower(),
             "the refusal is shown")

    sign_in(browser, endpoint, key)
    assert "ops" in text_of(browser, "signed-in-as") and key["project_id"] in text_of(browser, "signed-in-as")
    stored = session_storage(browser)
    assert key["secret_key"] not in stored
    assert json.loads(json.loads(stored)["coc.session"])["token"]
    screenshot(browser, "scripts-empty")

    button(browser, "Sign out").click()
    field(browser, "Access key")
    assert "coc.session" not in session_storage(browser)
    assert csp_violations(browser) == []


def test_an_expired_token_returns_to_sign_in_with_a_message(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    browser.execute_script("""const s = JSON.parse(sessionStorage.getItem('coc.session'));
        s.token = 'expired-' + s.token; sessionStorage.setItem('coc.session', JSON.stringify(s));""")
    link(browser, "Tickets").click()
    notice = wait_for(browser, lambda d: text_of(d, "signin-notice"), "the sign-in page says why")
    assert "session expired" in notice.lower()
    field(browser, "Secret key")


def create_script(browser, name, content, param=None):
    link(browser, "Scripts").click()
    link(browser, "New script").click()
    type_into(browser, "Name", name)
    type_into(browser, "Description", "made in the console")
    type_into(browser, "Content", content)
    if param:
        button(browser, "Add parameter").click()
        type_into(browser, "Parameter 1 name", param[0])
        type_into(browser, "Default value", param[1])
    button(browser, "Create script").click()
    wait_for(browser, lambda d: d.find_elements(By.XPATH, f"//h2[normalize-space(.)={json.dumps(name)}]"),
             "the script's page")


def test_a_script_is_created_run_on_an_agent_and_its_log_shown_as_text(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    link(browser, "Scripts").click()
    link(browser, "New script").click()
    # The spec's rules, as one types.
    type_into(browser, "Name", "bad name")
    wait_for(browser, lambda d: "only letters, digits and underscores" in d.page_source, "the name rule is shown")
    type_into(browser, "Version", "12345678901")
    wait_for(browser, lambda d: "at most 10 characters" in d.page_source, "the version rule is shown")
    screenshot(browser, "script-rules")
    link(browser, "Scripts").click()

    create_script(browser, "greet", f"echo '{MARKUP_LOG}'\necho hello $who", ("who", "console"))
    assert MARKUP_LOG in text_of(browser, "script-content")
    button(browser, "Run").click()
    for sn in tenant["agents"][:1]:
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"input[aria-label='Choose {sn}']"),
                 "the host is listed").__getitem__(0).click()
    button(browser, "Review plan").click()
    wait_for(browser, lambda d: tenant["agents"][0] in text_of(d, "plan"), "the plan names the host")
    screenshot(browser, "run-plan")
    button(browser, "Start run").click()

    wait_for(browser, lambda d: "FINISHED" in text_of(d, "ticket-status"), "the ticket finishes", seconds=60)
    log = wait_for(browser, lambda d: "hello console" in text_of(d, "host-log") and text_of(d, "host-log"),
                   "the log is shown")
    assert MARKUP_LOG in log, log
    assert browser.execute_script("return window.__pwned === undefined && "
                                  "document.querySelectorAll('pre script, pre b').length === 0")
    screenshot(browser, "ticket-finished")
    assert csp_violations(browser) == []


def test_a_two_batch_run_pauses_after_the_first_and_continues(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    create_script(browser, "two_batches", "sleep 1\necho batch done")
    button(browser, "Run").click()
    for sn in tenant["agents"]:
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"input[aria-label='Choose {sn}']"),
                 f"host {sn} is listed").__getitem__(0).click()
    pause = wait_for(browser, lambda d: d.find_elements(By.XPATH, "//label[normalize-space(.)='Pause after batch 1']"),
                     "two batches are planned")
    pause[0].click()
    button(browser, "Review plan").click()
    wait_for(browser, lambda d: "pause" in text_of(d, "plan"), "the plan shows the pause")
    button(browser, "Start run").click()

    wait_for(browser, lambda d: "PAUSED" in text_of(d, "ticket-status"), "the ticket pauses after batch 1", seconds=60)
    assert "batch done" in text_of(browser, "batch-1")
    assert "READY" in text_of(browser, "batch-2")
    screenshot(browser, "ticket-paused")
    button(browser, "Continue").click()
    wait_for(browser, lambda d: "FINISHED" in text_of(d, "ticket-status"), "the ticket finishes", seconds=60)
    wait_for(browser, lambda d: "batch done" in text_of(d, "batch-2"), "batch 2's log")


def test_an_incident_is_created_and_solved_and_its_markup_shown_as_text(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    link(browser, "Engineers").click()
    button(browser, "Synchronize users").click()
    wait_for(browser, lambda d: "ops-1" in d.page_source, "the user is an engineer")

    link(browser, "Incidents").click()
    link(browser, "New incident").click()
    type_into(browser, "Title", MARKUP_TITLE)
    type_into(browser, "Description", "<i>users see 500s</i>")
    type_into(browser, "Application", "shop")
    button(browser, "Create incident").click()
    wait_for(browser, lambda d: text_of(d, "incident-title") == MARKUP_TITLE, "the title, as text")
    assert text_of(browser, "incident-description") == "<i>users see 500s</i>"

    steps = [("Accept", {}), ("Submit solution", {"Cause": "disk full", "Solution": "rotated logs"}),
             ("Verify", {"Comment": "checked"})]
    for action, fields in steps:
        button(browser, action).click()
        for label, value in fields.items():
            type_into(browser, label, value)
        if action == "Submit solution":
            screenshot(browser, "incident-solution")
        button(browser, f"Confirm: {action}").click()
        wait_for(browser, lambda d: not d.find_elements(By.XPATH, "//button[starts-with(normalize-space(.), 'Confirm:')]"),
                 f"{action} is done")
    wait_for(browser, lambda d: "COMPLETED" in text_of(d, "incident-status"), "the incident is completed")
    assert "checked" in browser.page_source
    screenshot(browser, "incident-completed")

    link(browser, "Incidents").click()
    wait_for(browser, lambda d: text_of(d, "incident-title") == MARKUP_TITLE, "the list shows the title as text")
    assert browser.execute_script("return window.__pwned === undefined && document.querySelectorAll('td img').length === 0")
    screenshot(browser, "incidents")
    assert csp_violations(browser) == []


def test_a_script_with_a_reviewer_waits_and_the_reviewer_approves_the_revision_shown(endpoint, tenant, browser):
    reviewer = admin("create-credential", "--project-id", tenant["key"]["project_id"], "--user-id", "rev-1",
                     "--user-name", "reviewer")
    sign_in(browser, endpoint, tenant["key"])
    link(browser, "Engineers").click()
    button(browser, "Synchronize users").click()
    wait_for(browser, lambda d: "rev-1" in d.page_source, "the reviewer is an engineer")
    link(browser, "Scripts").click()
    link(browser, "New script").click()
    type_into(browser, "Name", "reviewed")
    type_into(browser, "Description", "needs a second pair of eyes")
    type_into(browser, "Content", "uptime")
    button(browser, "Add reviewer").click()
    type_into(browser, "Reviewer name", "reviewer")
    type_into(browser, "Reviewer user id", "nobody")
    button(browser, "Create script").click()
    # The API's error, beside the field it names.
    beside = wait_for(browser, lambda d: d.find_elements(
        By.XPATH, "//input[@aria-invalid='true']/ancestor::div[contains(@class, 'mantine-InputWrapper-root')]"
                  "[contains(., 'not an O&M engineer')]"), "the reviewer's error beside its field")
    assert "Reviewer user id" in beside[0].text
    screenshot(browser, "script-api-error")
    type_into(browser, "Reviewer user id", "rev-1")
    button(browser, "Create script").click()
    wait_for(browser, lambda d: "PENDING APPROVE" in d.page_source, "the script waits for its reviewer")
    assert browser.find_elements(By.XPATH, "//a[normalize-space(.)='Run' and @data-disabled='true']")
    script_page = browser.current_url
    # Its creator is no reviewer: no decision is offered.
    assert "only the reviewers named above may decide" in text_of(browser, "waiting-for-review")
    assert not browser.find_elements(By.XPATH, "//button[normalize-space(.)='Approve']")

    button(browser, "Sign out").click()
    sign_in(browser, endpoint, reviewer)
    browser.get(script_page)
    wait_for(browser, lambda d: "Review revision 1" in d.page_source, "the review form names the revision")
    type_into(browser, "Comments", "looks fine")
    button(browser, "Approve").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-status=APPROVED]"), "the script is approved")
    assert "looks fine" in browser.page_source
    button(browser, "Run")
    assert csp_violations(browser) == []


def test_an_integration_shows_its_intake_url_and_the_alarms_it_took_in(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    link(browser, "Engineers").click()
    button(browser, "Synchronize users").click()
    wait_for(browser, lambda d: "ops-1" in d.page_source, "the user is an engineer")
    link(browser, "Alarm integrations").click()
    type_into(browser, "Integration name", "zabbix")
    button(browser, "Create integration").click()
    url = wait_for(browser, lambda d: next((e.get_attribute("value") for e in d.find_elements(
        By.CSS_SELECTOR, "input[aria-label='Custom events intake URL']")), None), "the intake URL")
    assert url.startswith(endpoint + "/v1/event/huawei/custom/")

    alarm = {"alarmId": "zbx-1", "alarmName": "<b>Disk</b> almost full", "alarmLevel": "Critical",
             "time": 1709118444540, "nameSpace": "prod", "regionId": "local", "applicationId": "shop",
             "resourceName": "db-1", "resourceId": "vm-9", "alarmDesc": "95% used", "URL": "https://zabbix.example/1",
             "alarmStatus": "alarm", "alarmSource": "zabbix"}
    request = urllib.request.Request(url, data=json.dumps(alarm).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    button(browser, "Show recent alarms").click()
    wait_for(browser, lambda d: "<b>Disk</b> almost full" in text_of(d, "integration-zabbix"), "the alarm, as text")
    incident = wait_for(browser, lambda d: d.find_elements(By.XPATH, "//a[starts-with(normalize-space(.), 'IM')]"),
                        "the alarm's incident")
    screenshot(browser, "integrations")
    incident[0].click()
    wait_for(browser, lambda d: text_of(d, "incident-title") == "<b>Disk</b> almost full", "the incident it opened")
    assert csp_violations(browser) == []


def test_patch_compliance_starts_a_scan_as_a_ticket(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    link(browser, "Patch compliance").click()
    wait_for(browser, lambda d: "No reports" in d.page_source, "the empty list")
    host = tenant["agents"][0]
    wait_for(browser, lambda d: d.find_elements(By.XPATH, f"//label[normalize-space(.)={json.dumps(host)}]"),
             "the host to scan").__getitem__(0).click()
    button(browser, "Start scan (1 hosts)").click()
    wait_for(browser, lambda d: "COC-PatchScan" in d.page_source, "the scan's ticket page")
    wait_for(browser, lambda d: "FINISHED" in text_of(d, "ticket-status"), "the scan finishes", seconds=120)
    link(browser, "Patch compliance").click()
    wait_for(browser, lambda d: d.find_elements(By.XPATH, "//button[starts-with(normalize-space(.), 'Patches of')]"),
             "the host's report").__getitem__(0).click()
    wait_for(browser, lambda d: d.find_elements(By.XPATH, "//fieldset[contains(., 'Patches of')]//tbody/tr"),
             "the host's patch items")
    screenshot(browser, "patch-compliance")
    assert csp_violations(browser) == []


def test_an_engineer_s_contact_methods_start_subscriptions_and_show_in_the_delivery_log(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    link(browser, "Engineers").click()
    button(browser, "Synchronize users").click()
    link(browser, "ops-1").click()
    type_into(browser, "Mobile", "123")
    button(browser, "Save contact methods").click()
    wait_for(browser, lambda d: d.find_elements(
        By.XPATH, "//div[contains(@class, 'mantine-InputWrapper-root')][contains(., 'Mobile')]//*[contains(@class, 'error')]"),
        "the mobile number's error beside it")
    type_into(browser, "Mobile", "")
    type_into(browser, "Email", "ops@example.com")
    button(browser, "Save contact methods").click()
    wait_for(browser, lambda d: "o***@example.com" in d.page_source and d.find_elements(By.CSS_SELECTOR, "[data-status=PENDING]"),
             "a pending EMAIL subscription, its address masked")
    screenshot(browser, "engineer")
    link(browser, "Delivery log").click()
    row = wait_for(browser, lambda d: next((r.text for r in d.find_elements(By.CSS_SELECTOR, "tbody tr")
                                            if "EMAIL to o***@example.com" in r.text), None),
                   "the confirmation's delivery", seconds=60)
    # No mail server in the tests: the log says why the delivery failed.
    assert "SUBSCRIPTION_CONFIRMATION" in row and "COC_SMTP_HOST" in row, row
    assert csp_violations(browser) == []


def test_a_failed_host_is_retried_and_a_running_ticket_canceled(endpoint, tenant, browser):
    sign_in(browser, endpoint, tenant["key"])
    create_script(browser, "fails", "echo about to fail\nsleep 2\nexit 3")
    button(browser, "Run").click()
    host = tenant["agents"][0]
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"input[aria-label='Choose {host}']"),
             "the host is listed").__getitem__(0).click()
    button(browser, "Review plan").click()
    button(browser, "Start run").click()
    wait_for(browser, lambda d: "ABNORMAL" in text_of(d, "ticket-status"), "the ticket fails", seconds=60)
    wait_for(browser, lambda d: "exit 3" in text_of(d, "batch-1"), "the exit code")
    assert not browser.find_elements(By.XPATH, "//button[normalize-space(.)='Pause']")
    button(browser, f"Retry {host}").click()
    # The retry re-opens the ticket; it fails again the same way.
    wait_for(browser, lambda d: "ABNORMAL" not in text_of(d, "ticket-status"), "the ticket is re-opened")
    wait_for(browser, lambda d: "ABNORMAL" in text_of(d, "ticket-status"), "the retry fails too", seconds=60)

    create_script(browser, "naps", "sleep 60")
    button(browser, "Run").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"input[aria-label='Choose {host}']"),
             "the host is listed").__getitem__(0).click()
    button(browser, "Review plan").click()
    button(browser, "Start run").click()
    wait_for(browser, lambda d: "PROCESSING" in text_of(d, "batch-1"), "the host runs it", seconds=30)
    button(browser, "Cancel ticket").click()
    wait_for(browser, lambda d: "CANCELED" in text_of(d, "ticket-status"), "the ticket is canceled")
    assert not browser.find_elements(By.XPATH, "//button[normalize-space(.)='Cancel ticket']")
    assert csp_violations(browser) == []


UNLABELLED_FIELDS = """
return [...document.querySelectorAll('input, textarea, select')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120));
"""


def focus_by_tab(browser, element, most=20):
    """Presses Tab until `element` has the focus, as a keyboard user moves through the page."""
    for _ in range(most):
        if browser.switch_to.active_element == element:
            return
        ActionChains(browser).send_keys(Keys.TAB).perform()
    raise AssertionError(f"{element.get_attribute('outerHTML')[:80]} is not reached with Tab")


def test_sign_in_and_a_new_script_work_from_the_keyboard_and_every_field_is_labelled(endpoint, tenant, browser):
    key = tenant["key"]
    browser.get(endpoint + "/console/")
    access, secret = field(browser, "Access key"), field(browser, "Secret key")
    assert browser.execute_script(UNLABELLED_FIELDS) == []
    focus_by_tab(browser, access)
    ActionChains(browser).send_keys(key["access_key"]).perform()
    focus_by_tab(browser, secret)
    ActionChains(browser).send_keys(key["secret_key"], Keys.ENTER).perform()
    wait_for(browser, lambda d: text_of(d, "signed-in-as"), "signed in with the keyboard alone")

    scripts_link = link(browser, "Scripts")
    focus_by_tab(browser, scripts_link, most=40)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_for(browser, lambda d: link(d, "New script"), "the scripts page")
    assert browser.execute_script(UNLABELLED_FIELDS) == [], "every field on the scripts page has a label"
    link(browser, "New script").click()
    field(browser, "Name")
    assert browser.execute_script(UNLABELLED_FIELDS) == [], "every field of the script form has a label"
