//! Passkeys tried from outside, with a software authenticator written here from the WebAuthn
//! specification (a P-256 key, "none" attestation): registration, sign-in with the passkey
//! alone, and the second step after a password — each ceremony started on one process and
//! finished on another when `PATDESK_TEST_BACKEND=postgres` (on SQLite, one server). The
//! browser's own authenticator is tried by the Playwright spec (Chromium's virtual
//! authenticator).

mod support;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use domain::identity::two_factor::totp::code_at;
use openssl::{
    bn::{BigNum, BigNumContext},
    ec::{EcGroup, EcKey},
    ecdsa::EcdsaSig,
    nid::Nid,
    pkey::Private,
    sha::sha256,
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use support::{Caller, PASSWORD, TestServer, client_from, count, eventually, execute, json};

/// Every process is reached at one public address: the relying party.
const PUBLIC_URL: &str = "https://patdesk.example.test";
const RP_ID: &str = "patdesk.example.test";
const KEY: &str = "a secret key for these tests, long enough";

/// A minimal CBOR writer: what an attestation object and a COSE key need.
enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    fn head(out: &mut Vec<u8>, major: u8, value: u64) {
        let major = major << 5;
        match value {
            0..=23 => out.push(major | value as u8),
            24..=0xff => out.extend([major | 24, value as u8]),
            0x100..=0xffff => {
                out.push(major | 25);
                out.extend((value as u16).to_be_bytes());
            }
            _ => {
                out.push(major | 26);
                out.extend((value as u32).to_be_bytes());
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => Self::head(out, 0, *n as u64),
            Cbor::Int(n) => Self::head(out, 1, (-1 - n) as u64),
            Cbor::Bytes(b) => {
                Self::head(out, 2, b.len() as u64);
                out.extend(b);
            }
            Cbor::Text(t) => {
                Self::head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Cbor::Map(entries) => {
                Self::head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }
}

/// A passkey on a software authenticator: its key, id, user handle and counter.
struct SoftPasskey {
    key: EcKey<Private>,
    id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
}

fn client_data(kind: &str, options: &Value) -> Vec<u8> {
    json!({
        "type": kind,
        "challenge": options["publicKey"]["challenge"],
        "origin": PUBLIC_URL,
        "crossOrigin": false,
    })
    .to_string()
    .into_bytes()
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create()` for `options` (as the server wrote them).
    fn create(options: &Value) -> (SoftPasskey, String) {
        assert_eq!(options["publicKey"]["rp"]["id"], RP_ID);
        assert_eq!(
            options["publicKey"]["authenticatorSelection"]["residentKey"], "required",
            "a passkey that can sign in on its own"
        );
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = EcKey::generate(&group).unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        key.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut BigNumContext::new().unwrap())
            .unwrap();
        let cose = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(-7)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(x.to_vec_padded(32).unwrap())),
            (Cbor::Int(-3), Cbor::Bytes(y.to_vec_padded(32).unwrap())),
        ]);
        let id: Vec<u8> = (0..32).map(|_| rand_byte()).collect();
        let mut auth_data = sha256(RP_ID.as_bytes()).to_vec();
        auth_data.push(0x45); // user present, user verified, attested credential data
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((id.len() as u16).to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose.bytes());
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(vec![])),
            (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
        ]);
        let user_handle = B64
            .decode(options["publicKey"]["user"]["id"].as_str().unwrap())
            .unwrap();
        let answer = json!({
            "id": B64.encode(&id),
            "rawId": B64.encode(&id),
            "type": "public-key",
            "response": {
                "clientDataJSON": B64.encode(client_data("webauthn.create", options)),
                "attestationObject": B64.encode(attestation.bytes()),
            },
            "clientExtensionResults": {},
        });
        let passkey = SoftPasskey {
            key,
            id,
            user_handle,
            counter: 0,
        };
        (passkey, answer.to_string())
    }

    /// Answers `navigator.credentials.get()` for `options`.
    fn get(&mut self, options: &Value) -> String {
        self.counter += 1;
        let mut auth_data = sha256(RP_ID.as_bytes()).to_vec();
        auth_data.push(0x05); // user present, user verified
        auth_data.extend(self.counter.to_be_bytes());
        let client_data = client_data("webauthn.get", options);
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = EcdsaSig::sign(&sha256(&signed), &self.key)
            .unwrap()
            .to_der()
            .unwrap();
        json!({
            "id": B64.encode(&self.id),
            "rawId": B64.encode(&self.id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature),
                "userHandle": B64.encode(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }
}

fn rand_byte() -> u8 {
    let mut byte = [0u8; 1];
    openssl::rand::rand_bytes(&mut byte).unwrap();
    byte[0]
}

async fn begin(caller: &mut Caller<'_>, purpose: &str) -> (String, Value) {
    let response = caller.call("begin_passkey", &[("purpose", purpose)]).await;
    assert_eq!(response.status(), StatusCode::OK, "begin {purpose}");
    let started = json(response).await;
    let options = serde_json::from_str(started["options"].as_str().unwrap()).unwrap();
    (started["ceremony"].as_str().unwrap().to_string(), options)
}

async fn finish(
    caller: &mut Caller<'_>,
    purpose: &str,
    ceremony: &str,
    credential: &str,
    name: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        ("purpose", purpose),
        ("ceremony", ceremony),
        ("credential", credential),
    ];
    if let Some(name) = name {
        form.push(("name", name));
    }
    caller.call("finish_passkey", &form).await
}

#[tokio::test]
async fn passkeys_register_and_sign_in_across_processes() {
    let envs = [
        ("PATDESK_PUBLIC_URL", PUBLIC_URL),
        (
            "PATDESK_SECRET_KEY",
            "a secret key for these tests, long enough",
        ),
    ];
    let server = TestServer::start_env(&envs);
    let second = server.is_postgres().then(|| {
        TestServer::start_with(tempfile::tempdir().unwrap(), &server.database_url(), &envs)
    });
    let other = second.as_ref().unwrap_or(&server);

    // Registered: started on one process, finished on the other.
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let (ceremony, options) = begin(&mut alice, "Register").await;
    let (mut passkey, answer) = SoftPasskey::create(&options);
    let mut there = Caller::new(other);
    there.cookie = alice.cookie.clone();
    let unnamed = finish(&mut there, "Register", &ceremony, &answer, Some(" ")).await;
    assert_eq!(unnamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A ceremony is used once: the refused answer above did not consume it, this one does.
    let added = finish(&mut there, "Register", &ceremony, &answer, Some("laptop")).await;
    assert_eq!(added.status(), StatusCode::OK);
    let again = finish(&mut there, "Register", &ceremony, &answer, Some("laptop")).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let listed = json(alice.call("my_passkeys", &[]).await).await;
    assert_eq!(listed[0]["name"], "laptop");
    assert_eq!(listed[0]["last_used"], Value::Null);

    // Someone else's session cannot finish Alice's ceremony.
    let (ceremony, options) = begin(&mut alice, "Register").await;
    let (_, answer) = SoftPasskey::create(&options);
    let mut mallory = Caller::new(&server);
    mallory.sign_up("mallory").await;
    let stolen = finish(&mut mallory, "Register", &ceremony, &answer, Some("mine")).await;
    assert_eq!(stolen.status(), StatusCode::CONFLICT);

    // Signing in with the passkey alone, started on the other process.
    let mut visitor = Caller::new(other);
    let (ceremony, options) = begin(&mut visitor, "SignIn").await;
    let signed = passkey.get(&options);
    let mut here = Caller::new(&server);
    let response = finish(&mut here, "SignIn", &ceremony, &signed, None).await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    assert!(
        here.cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_session=")
    );
    let me = json(here.call("header_state", &[]).await).await;
    assert_eq!(me["user"]["username"], "alice");
    // The same signature again is refused (the ceremony is gone).
    let mut replayer = Caller::new(&server);
    let replay = finish(&mut replayer, "SignIn", &ceremony, &signed, None).await;
    assert_eq!(replay.status(), StatusCode::CONFLICT);
    assert!(replayer.cookie.is_none());

    // With a passkey, a password alone is no session: the second step takes the passkey.
    let mut by_password = Caller::new(&server);
    by_password.sign_in("alice", PASSWORD).await;
    assert!(
        by_password
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_sign_in=")
    );
    let (ceremony, options) = begin(&mut by_password, "SecondFactor").await;
    assert_eq!(
        options["publicKey"]["allowCredentials"][0]["id"],
        B64.encode(&passkey.id)
    );
    let signed = passkey.get(&options);
    let mut finishing = Caller::new(other);
    finishing.cookie = by_password.cookie.clone();
    let done = finish(&mut finishing, "SecondFactor", &ceremony, &signed, None).await;
    assert!(!done.status().is_client_error(), "{}", done.status());
    assert!(
        finishing
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_session=")
    );
    let listed = json(finishing.call("my_passkeys", &[]).await).await;
    assert_ne!(listed[0]["last_used"], Value::Null);

    // Sudo mode with the passkey.
    let db = server.connect_database().await;
    let aged = chrono::Utc::now() - chrono::Duration::hours(3);
    let alices = "UPDATE sessions SET authenticated_at = $1 \
        WHERE user_id = (SELECT id FROM users WHERE username = 'alice')";
    execute(&db, alices, [aged.into()]).await;
    let id = listed[0]["id"].to_string();
    let stale = finishing.call("remove_passkey", &[("id", &id)]).await;
    assert_eq!(json(stale).await, "reauthentication_required");
    let (ceremony, options) = begin(&mut finishing, "Confirm").await;
    let signed = passkey.get(&options);
    let confirmed = finish(&mut finishing, "Confirm", &ceremony, &signed, None).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    // Mallory cannot remove it; Alice can.
    let refused = mallory.call("remove_passkey", &[("id", &id)]).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let removed = finishing.call("remove_passkey", &[("id", &id)]).await;
    assert_eq!(removed.status(), StatusCode::OK);
    // Gone: it signs in no more.
    let mut late = Caller::new(&server);
    let (ceremony, options) = begin(&mut late, "SignIn").await;
    let signed = passkey.get(&options);
    let refused = finish(&mut late, "SignIn", &ceremony, &signed, None).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}

/// Alice, signed up on `server`, with one passkey.
async fn alice_with_a_passkey<'a>(server: &'a TestServer) -> (Caller<'a>, SoftPasskey) {
    let mut alice = Caller::new(server);
    alice.sign_up("alice").await;
    let (ceremony, options) = begin(&mut alice, "Register").await;
    let (passkey, answer) = SoftPasskey::create(&options);
    let added = finish(&mut alice, "Register", &ceremony, &answer, Some("laptop")).await;
    assert_eq!(added.status(), StatusCode::OK);
    (alice, passkey)
}

/// The authenticator app's code for `secret`, `steps_ahead` steps of 30 s from now.
fn app_code(secret: &str, steps_ahead: i64) -> String {
    let at = chrono::Utc::now().timestamp() + steps_ahead * 30;
    code_at(secret, at as u64).unwrap()
}

#[tokio::test]
async fn an_authenticator_app_never_confirmed_is_no_second_factor() {
    let server = TestServer::start_env(&[
        ("PATDESK_PUBLIC_URL", PUBLIC_URL),
        ("PATDESK_SECRET_KEY", KEY),
    ]);
    let db = server.connect_database().await;
    // Alice signs in with a passkey; she started setting up an app once and left it there.
    let (mut alice, _passkey) = alice_with_a_passkey(&server).await;
    assert_eq!(
        alice.call("begin_totp_enrolment", &[]).await.status(),
        StatusCode::OK
    );
    let status = json(alice.call("two_factor_status", &[]).await).await;
    let secret = status["pending"]["secret"].as_str().unwrap().to_string();
    assert_eq!(status["enrolment_waiting"], true);

    // Hours later her session is out of sudo mode: the waiting app's secret is not shown to it.
    let aged = chrono::Utc::now() - chrono::Duration::hours(3);
    execute(
        &db,
        "UPDATE sessions SET authenticated_at = $1",
        [aged.into()],
    )
    .await;
    let status = json(alice.call("two_factor_status", &[]).await).await;
    assert_eq!(status["pending"], Value::Null, "{status}");
    assert_eq!(status["enrolment_waiting"], true);
    assert_eq!(status["enabled"], true, "the passkey is her second factor");

    // Its codes are no second factor: not for sudo mode…
    let confirm = [("password", PASSWORD), ("code", &app_code(&secret, 0))];
    let refused = alice.call("confirm_identity", &confirm).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(refused).await["Field"]["field"], "code");
    // … nor after the password at sign-in.
    let mut thief = Caller::new(&server);
    thief.sign_in("alice", PASSWORD).await;
    let refused = thief
        .call("sign_in_second_factor", &[("code", &app_code(&secret, 1))])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        thief
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_sign_in="),
        "no session"
    );
}

#[tokio::test]
async fn a_refused_passkey_answer_uses_up_its_ceremony() {
    let server = TestServer::start_env(&[
        ("PATDESK_PUBLIC_URL", PUBLIC_URL),
        ("PATDESK_SECRET_KEY", KEY),
    ]);
    let (_, mut passkey) = alice_with_a_passkey(&server).await;

    let mut visitor = Caller::new(&server);
    let (ceremony, options) = begin(&mut visitor, "SignIn").await;
    // A well-formed answer that does not check out: signed for another ceremony's challenge.
    let (_, other_options) = begin(&mut visitor, "SignIn").await;
    let wrong = passkey.get(&other_options);
    let refused = finish(&mut visitor, "SignIn", &ceremony, &wrong, None).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        json(refused)
            .await
            .to_string()
            .contains("could not be checked")
    );
    // The ceremony went with it: the right answer to it is refused too.
    let right = passkey.get(&options);
    let late = finish(&mut visitor, "SignIn", &ceremony, &right, None).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert!(json(late).await.to_string().contains("expired"));
    assert!(visitor.cookie.is_none(), "no session");
}

#[tokio::test]
async fn passkey_ceremonies_are_budgeted_per_address_and_swept_when_unfinished() {
    let server = TestServer::start_env(&[
        ("PATDESK_PUBLIC_URL", PUBLIC_URL),
        ("PATDESK_SECRET_KEY", KEY),
        ("PATDESK_PASSKEY_CEREMONIES_PER_MINUTE", "3"),
        ("PATDESK_SESSION_SWEEP_SECONDS", "1"),
    ]);
    let db = server.connect_database().await;
    let mut visitor = Caller::new(&server);
    for _ in 0..3 {
        begin(&mut visitor, "SignIn").await;
    }
    let refused = visitor
        .call("begin_passkey", &[("purpose", "SignIn")])
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another address has its own budget.
    let mut elsewhere = Caller {
        server: &server,
        client: client_from(7),
        cookie: None,
    };
    begin(&mut elsewhere, "SignIn").await;
    let ceremonies = "SELECT COUNT(*) AS n FROM webauthn_ceremonies";
    assert_eq!(count(&db, ceremonies, []).await, 4);

    // Five minutes pass (what no interface offers) and nobody starts another ceremony: the
    // server's housekeeping deletes the unfinished ones anyway.
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    execute(
        &db,
        "UPDATE webauthn_ceremonies SET expires_at = $1",
        [past.into()],
    )
    .await;
    eventually("the unfinished ceremonies to be deleted", || async {
        (count(&db, ceremonies, []).await == 0).then_some(())
    })
    .await;
}
