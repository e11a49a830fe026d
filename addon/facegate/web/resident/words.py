"""Every word of the resident pages, in English and Simplified Chinese, and how a page's
language is chosen: the switch on the page (remembered in a cookie), else the browser's
Accept-Language. Written as residents speak, not translated word for word."""

from __future__ import annotations

from typing import Final

from aiohttp import web

LANGUAGES: Final = ("en", "zh-Hans")

WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "facegate — your door access",
        "switch": "中文",
        "welcome": "Welcome, {name}",
        "welcome_text": "This is your own page for the doors of your building. Nobody can "
        "decide for you here: read what happens to a face, then choose how you want to open "
        "the doors — with your face, with a PIN, or both. You can change your mind at any time.",
        "continue": "Continue",
        "invitation_text": "You were invited to set up how you open the doors of your "
        "building. This link works once: it opens your own page on this phone.",
        "start": "Open my page on this phone",
        "home": "Your door access",
        "doors_you_open": "Doors you can open",
        "no_doors": "None yet: ask the building's administrator to add you to a group.",
        "face": "Face unlock",
        "face_on": "On: {count} photo(s) enrolled, consent until {until}",
        "face_consented": "Consent given until {until}; no photo enrolled yet",
        "face_off": "Off",
        "pin": "PIN",
        "pin_set": "Set",
        "pin_none": "Not set",
        "read_notice": "How your face would be used",
        "choose_face": "Face unlock: your choice",
        "enrol_face": "Enrol your face",
        "set_pin": "Set or change your PIN",
        "my_data": "My data and my rights",
        "notice": "How facegate uses a face",
        "notice_version": "Notice version {version}",
        "consent": "Your choice about face unlock",
        "consent_intro": "Face unlock is optional. A PIN opens the same doors just as quickly. "
        "If you agree, facegate keeps one number per photo (not the photo) on this machine, "
        "encrypted, until {until} or until you withdraw, whichever is first.",
        "agree_box": "I agree that my face is processed as described in the notice (version "
        "{version}).",
        "signature": "Type your full name as your signature",
        "guardian_intro": "{name} is under 14. A parent or guardian must give this consent.",
        "guardian_name": "Parent or guardian's full name",
        "guardian_signature": "Parent or guardian: type your name as your signature",
        "agree_button": "I agree — use my face",
        "decline_button": "No thanks — give me a PIN",
        "declined": "No face will be used. Set a PIN to open the doors.",
        "face_title": "Enrol your face",
        "face_intro": "Take 3 photos of your face (or choose them): face the camera, in good "
        "light, one at a time. They are analysed in memory and never stored.",
        "photos": "Photos of your face",
        "photo_n": "photo {n}",
        "camera_on": "Turn on the camera",
        "camera_button": "Take 3 photos with the camera",
        "camera_ready": "Good: your face is clear. Hold still and take the photos.",
        "camera_checking": "Looking at the camera's picture…",
        "no_consent_yet": "Give your consent to face unlock first.",
        "camera_label": "The camera's picture",
        "camera_taking": "Photo {n} of 3: look at the camera…",
        "camera_sending": "Checking the photos…",
        "camera_failed": "The camera did not work; choose photos below instead.",
        "enrol_button": "Enrol",
        "enrolled": "Done: {count} photo(s) enrolled. Face unlock is on.",
        "phone_key": "Your phone as a key",
        "phone_title": "Your phone as a key",
        "phone_intro": "Make this phone a key: it keeps a passkey that only it holds, unlocked "
        "with your fingerprint, face or screen lock. Then a tap opens a door. No phone number "
        "is asked for.",
        "phone_register": "Make this phone a key",
        "phone_registered": "This phone is a key.",
        "phone_needs_script": "This needs JavaScript.",
        "phone_unavailable": "A phone key needs the page over HTTPS with the building's host "
        "name; ask the administrator. A PIN works meanwhile.",
        "phone_open": "Open: {door}",
        "phone_opened": "{door}: opened.",
        "phone_denied": "{door}: not opened ({reason}).",
        "phone_not_local": "This door opens by phone only from the building's own network.",
        "phone_failed": "That did not work:",
        "pin_title": "Your PIN",
        "pin_intro": "6 to 12 digits, not easy to guess (no run like 123456, no date). It is "
        "never shown again, not even to the administrator.",
        "pin_first": "New PIN",
        "pin_again": "The same PIN again",
        "pin_button": "Save the PIN",
        "pin_saved": "Your PIN is set.",
        "pin_mismatch": "The two PINs differ; enter the same PIN twice.",
        "phone_too_many": "Your phone key failed too often: wait ten minutes and try again.",
        "data_title": "My data and my rights",
        "consent_status": "Face consent",
        "status_live": "given, until {until}",
        "status_none": "not given",
        "status_withdrawn": "withdrawn",
        "status_expired": "expired",
        "status_needs_renewal": "needs renewing (the notice changed)",
        "renew": "Renew my consent for another year",
        "renewed": "Your consent now lasts until {until}.",
        "withdraw": "Withdraw my consent (my face data is deleted at once)",
        "withdrawn": "Consent withdrawn: {count} face template(s) deleted.",
        "export": "Download everything held about me (JSON)",
        "erase": "Erase everything about me",
        "erase_title": "Erase everything about me",
        "erase_intro": "Your record, face data, PIN and other credentials are deleted at once "
        "and cannot be restored. You will no longer be able to open the doors. The log keeps "
        "only an entry under a pseudonym that no longer leads to you.",
        "erase_confirm": "I understand: erase everything about me",
        "erase_button": "Erase now",
        "receipt": "Deletion receipt",
        "receipt_text": "Receipt {id}, {when}: deleted {what}.",
        "receipt_statement": "Your record, face templates, credentials, consent records and "
        "access-group memberships were deleted from this installation. The audit log keeps "
        "its entries under a pseudonym that no longer leads to you.",
        "list_separator": ", ",
        "deleted_person": "your record",
        "deleted_templates": "face templates: {count}",
        "deleted_credentials": "PINs, cards and keys: {count}",
        "deleted_consents": "consent records: {count}",
        "deleted_memberships": "group memberships: {count}",
        "invalid_link": "This invitation link cannot be used",
        "ask_again": "Ask the building's administrator for a new invitation.",
        "no_session": "Please open the invitation link you were sent.",
        "csrf": "This form has expired. Go back, reload the page and try again.",
        "too_many": "Too many attempts. Wait a few minutes and try again.",
        "problem": "That did not work",
        "back": "Back",
        "required": "required",
    },
    "zh-Hans": {
        "title": "facegate — 您的门禁",
        "switch": "English",
        "welcome": "{name}，您好",
        "welcome_text": "这是您本人的门禁页面，任何人都不能替您做决定：先了解人脸信息如何被使用，"
        "再选择开门方式——刷脸、密码，或两者都用。您随时可以改变主意。",
        "continue": "继续",
        "invitation_text": "您受邀设置本楼的开门方式。此链接只能使用一次，"
        "将在这部手机上打开您本人的页面。",
        "start": "在这部手机上打开我的页面",
        "home": "我的门禁",
        "doors_you_open": "您可以开的门",
        "no_doors": "暂无：请联系楼栋管理员把您加入通行组。",
        "face": "刷脸开门",
        "face_on": "已开启：已登记 {count} 张照片，授权至 {until}",
        "face_consented": "已授权至 {until}，尚未登记照片",
        "face_off": "未开启",
        "pin": "密码",
        "pin_set": "已设置",
        "pin_none": "未设置",
        "read_notice": "人脸信息将如何使用",
        "choose_face": "是否刷脸开门：由您决定",
        "enrol_face": "登记人脸",
        "set_pin": "设置或修改密码",
        "my_data": "我的信息与权利",
        "notice": "facegate 如何使用人脸信息",
        "notice_version": "告知版本 {version}",
        "consent": "是否使用刷脸开门",
        "consent_intro": "刷脸开门完全自愿。密码同样能开这些门，而且一样快。如果您同意，"
        "facegate 只在本机加密保存每张照片对应的一组数字（不保存照片本身），"
        "保存到 {until} 或您撤回同意为止，以先到者为准。",
        "agree_box": "我同意按告知（版本 {version}）所述处理我的人脸信息。",
        "signature": "请输入您的姓名作为签名",
        "guardian_intro": "{name} 未满 14 周岁，须由父母或其他监护人同意。",
        "guardian_name": "监护人姓名",
        "guardian_signature": "监护人：请输入您的姓名作为签名",
        "agree_button": "我同意——使用刷脸开门",
        "decline_button": "不用了——给我设置密码",
        "declined": "不会使用您的人脸。请设置密码开门。",
        "face_title": "登记人脸",
        "face_intro": "请拍摄（或选择）3 张正脸照片：面向镜头、光线充足、每张一人。"
        "照片只在内存中分析，从不保存。",
        "photos": "您的人脸照片",
        "photo_n": "第 {n} 张照片",
        "camera_on": "打开摄像头",
        "camera_button": "用摄像头拍 3 张照片",
        "camera_ready": "很好：脸部清晰。请保持不动，然后拍照。",
        "camera_checking": "正在查看摄像头画面……",
        "no_consent_yet": "请先同意使用刷脸开门。",
        "camera_label": "摄像头画面",
        "camera_taking": "第 {n} 张，共 3 张：请看镜头……",
        "camera_sending": "正在检查照片……",
        "camera_failed": "摄像头无法使用，请在下方选择照片。",
        "enrol_button": "登记",
        "enrolled": "完成：已登记 {count} 张照片，刷脸开门已开启。",
        "phone_key": "手机钥匙",
        "phone_title": "把手机变成钥匙",
        "phone_intro": "把这部手机变成钥匙：手机里保存一把只有它持有的通行密钥，"
        "用指纹、刷脸或锁屏密码解锁。之后轻点一下即可开门。不需要手机号。",
        "phone_register": "把这部手机设为钥匙",
        "phone_registered": "这部手机已是钥匙。",
        "phone_needs_script": "此功能需要 JavaScript。",
        "phone_unavailable": "手机钥匙需要通过 HTTPS 和本楼的主机名打开此页面，请联系管理员。"
        "在此之前可以使用密码。",
        "phone_open": "开门：{door}",
        "phone_opened": "{door}：已开门。",
        "phone_denied": "{door}：未开门（{reason}）。",
        "phone_not_local": "此门只能在本楼网络内用手机开门。",
        "phone_failed": "操作未成功：",
        "pin_title": "您的密码",
        "pin_intro": "6 至 12 位数字，不要太好猜（不要 123456 这样的顺序，不要用日期）。"
        "设置后不会再显示，管理员也看不到。",
        "pin_first": "新密码",
        "pin_again": "再输入一次",
        "pin_button": "保存密码",
        "pin_saved": "密码已设置。",
        "phone_too_many": "手机钥匙验证失败次数过多，请十分钟后再试。",
        "pin_mismatch": "两次输入的密码不一致，请输入相同的密码。",
        "data_title": "我的信息与权利",
        "consent_status": "人脸识别授权",
        "status_live": "已授权，至 {until}",
        "status_none": "未授权",
        "status_withdrawn": "已撤回",
        "status_expired": "已过期",
        "status_needs_renewal": "需要续期（告知内容已变更）",
        "renew": "续期一年",
        "renewed": "授权已续期至 {until}。",
        "withdraw": "撤回授权（立即删除我的人脸数据）",
        "withdrawn": "授权已撤回：已删除 {count} 个人脸特征。",
        "export": "下载关于我的全部信息（JSON）",
        "erase": "删除关于我的全部信息",
        "erase_title": "删除关于我的全部信息",
        "erase_intro": "您的记录、人脸数据、密码和其他凭证将立即删除且无法恢复，"
        "之后您将不能再开门。日志中只保留一条以假名记录、无法再关联到您的条目。",
        "erase_confirm": "我已了解：删除关于我的全部信息",
        "erase_button": "立即删除",
        "receipt": "删除回执",
        "receipt_text": "回执 {id}，{when}：已删除 {what}。",
        "receipt_statement": "您的个人记录、人脸模板、开门凭证、授权记录和通行组成员关系"
        "已从本系统删除。审计日志中的条目只保留一个化名，已无法再关联到您。",
        "list_separator": "、",
        "deleted_person": "您的个人记录",
        "deleted_templates": "人脸模板 {count} 个",
        "deleted_credentials": "密码、门卡和钥匙 {count} 个",
        "deleted_consents": "授权记录 {count} 条",
        "deleted_memberships": "通行组成员关系 {count} 个",
        "invalid_link": "此邀请链接无法使用",
        "ask_again": "请向楼栋管理员索取新的邀请链接。",
        "no_session": "请打开您收到的邀请链接。",
        "csrf": "表单已过期。请返回并刷新页面后重试。",
        "too_many": "尝试次数过多，请几分钟后再试。",
        "problem": "操作未成功",
        "back": "返回",
        "required": "必填",
    },
}


# What the engine refuses, in the reader's language (FacegateError.key, its values in the
# blanks). English pages show the engine's own message, which says the same.
REFUSALS: Final[dict[str, str]] = {
    "no_face": "{label}：没有找到人脸。请正对镜头，让整张脸都在画面里。",
    "too_small_for_liveness": "{label}：人脸太小，无法确认是真人。请靠近一些再拍。",
    "not_live": "{label}：这看起来像是照片或屏幕上的画面，而不是本人（活体检测，R12）。"
    "请对着本人重新拍摄。",
    "quality_too_small": "{label}：人脸太小。请靠近镜头。",
    "quality_blurry": "{label}：照片太模糊或太暗。请在光线充足的地方拿稳手机再拍。",
    "quality_turned_away": "{label}：脸没有正对镜头。请转过来直视镜头。",
    "quality_unusable": "{label}：这张照片无法使用，请重新拍摄。",
    "spread": "这些照片看起来不像同一个人。请只用本人的照片，并正对镜头。",
    "not_an_image": "{label}：不是可读取的 JPEG 或 PNG 图片。",
    "image_too_large": "{label}：图片太大。",
    "pin_length": "密码必须是 {low} 到 {high} 位数字。",
    "pin_weak": "这个密码太容易被猜到（{weakness}），请换一个。",
    "in_use": "这个号码已被使用，请换一个。",
    "too_many_changes": "被拒绝的更改次数过多，请 {seconds} 秒后再试。",
    "link_invalid": "这个邀请链接无效。",
    "link_used": "这个邀请链接已经用过了。",
    "link_replaced": "这个邀请链接已被新的邀请取代或已撤回。",
    "link_expired": "这个邀请链接已过期。",
}
PIN_WEAKNESSES: Final[dict[str, str]] = {
    "one repeated digit or a plain run": "同一个数字重复或连续数字",
    "a group of digits repeated": "一组数字重复",
    "doubled digits": "每个数字都重复两次",
    "two digits only": "只用了两个数字",
    "a shape on the keypad": "键盘上的一个图形",
    "a date": "一个日期",
    "a common choice": "常见的密码",
}


def refusal(lang: str, error: Exception) -> str:
    """What the engine refused, said in `lang`: the engine's own English message, or its
    translation where the refusal has one."""
    key = getattr(error, "key", None)
    template = REFUSALS.get(key or "") if lang == "zh-Hans" else None
    if template is None:
        return str(error)
    values = dict(getattr(error, "values", {}))
    if "weakness" in values:
        values["weakness"] = PIN_WEAKNESSES.get(str(values["weakness"]), values["weakness"])
    try:
        return template.format(**values)
    except (KeyError, IndexError):  # a refusal raised without its blanks: say it in English
        return str(error)


LANG_COOKIE: Final = "fg_lang"


def page_language(request: web.Request) -> str:
    """A page's language (the resident's and the administrator's pages alike)."""
    return choose(
        request.query.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("Accept-Language"),
    )


def remember_language(request: web.Request, response: web.Response, lang: str) -> None:
    """The switch on a page, remembered for a year."""
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="Strict", httponly=True, path="/"
        )


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: asked for on the page, else remembered, else the browser's."""
    for asked in (query, cookie):
        if asked in LANGUAGES:
            return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-Hans"
        if tag.startswith("en"):
            return "en"
    return "en"
