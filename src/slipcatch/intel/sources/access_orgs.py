"""Residential facts for the AS networks of large fixed and mobile access ISPs.

The geo source names each AS network's organisation (GeoLite2 ``autonomous_system_
organization``). For the operators below, the network is mainly where households and phones
reach the Internet: one ``residential`` fact per network, labelled
``"<ISP> (access ISP, by AS organisation)"``. Without it, every access-ISP address would stay
``unknown``.

This is an AS-level heuristic, not ground truth: the same AS also carries the ISP's business
lines, its own servers and hosting arms, and carrier-grade NAT pools shared by many users.
``residential`` is the lowest category that a fact gives, so any cover, actor or reserved
fact on the same address wins. Like the hosting-organisation facts they are as projected as
their geo snapshot (``projected``).

Names are matched exactly, and only names whose organisation is unambiguously the access
network are listed: ``CHARTER-*-DC`` (data centres), ``COMCAST-MES``, ``MEDIACOM-ENTERPRISE-
BUSINESS`` and the like are not. The national backbones of China (``Chinanet``, ``CHINA UNICOM
China169 Backbone``, ``China Mobile Communications Group Co., Ltd.``) carry access, transit
and data-centre space under one name, so they are left out; only China Telecom networks named
as metropolitan (``MAN``) access networks are listed. The test suite checks that every name
still exists in the geo data.
"""

from __future__ import annotations

from slipcatch.intel.records import Loaded
from slipcatch.intel.sources import _org_tables
from slipcatch.intel.sources.geoip2fast_data import GeoTables
from slipcatch.model import Category

__all__ = ["ORGS", "SOURCE_NAME", "label", "load", "table_sha256"]

SOURCE_NAME = "slipcatch-access-orgs"
VERSION = "2"

_COMCAST, _CHARTER, _ATT, _VZ = "Comcast", "Charter (Spectrum)", "AT&T", "Verizon"
_CT_MAN = "China Telecom (metro access)"


def _same(label_: str, *orgs: str) -> dict[str, str]:
    return dict.fromkeys(orgs, label_)


#: GeoLite2 AS organisation name -> ISP label.
ORGS: dict[str, str] = {
    # United States
    **_same(_COMCAST, "COMCAST-7922", "COMCAST-7015", "COMCAST-7725", "COMCAST-20214",
            "COMCAST-21508", "COMCAST-22258", "COMCAST-22909", "COMCAST-33287",
            "COMCAST-33489", "COMCAST-33490", "COMCAST-33491", "COMCAST-33650"),
    **_same(_CHARTER, "CHARTER-20115", "CHARTER-22513-WA-OR-C3",
            "CHARTER-22516-CENTRAL-CA-C3", "CHARTER-22677-MO-IL-C3",
            "CHARTER-22710-LOUSIANA-C3", "CHARTER-22974-MICHIGAN-DETROIT-C3",
            "CHARTER-23132-SOUTHERN-NEW-ENGLAND-C3", "CHARTER-23200-INDIANA-C3",
            "CHARTER-23222-RENO-C3", "TWC-10796-MIDWEST", "TWC-11351-NORTHEAST",
            "TWC-11426-CAROLINAS", "TWC-11427-TEXAS", "TWC-11955-ATLANTA", "TWC-12271-NYC",
            "TWC-13343-CHARLOTTE", "TWC-20001-PACWEST", "TWC-20231-NE-KS-C3",
            "TWC-40264-WI-MN-UPPERMI-C3", "TWC-7843-BB", "BHN-33363"),
    **_same(_ATT, "ATT-INTERNET4", "ATT-MOBILITY-LLC-AS20057", "BELLSOUTH-NET-BLK"),
    # UUNET (AS701) is Verizon Business: enterprise access and transit, not households
    **_same(_VZ, "CELLCO-PART", "CELLCO"),
    "ASN-CXA-ALL-CCI-22773-RDC": "Cox",
    "T-MOBILE-AS21928": "T-Mobile US",
    "CENTURYLINK-US-LEGACY-QWEST": "CenturyLink (Lumen)",
    "FRONTIER-FRTR": "Frontier",
    "WINDSTREAM": "Windstream",
    "SUDDENLINK-COMMUNICATIONS": "Suddenlink (Optimum)",
    "CABLEONE": "Cable One",
    "RCN-AS": "RCN (Astound)",
    "ASTOUND-CABLE": "Astound",
    "WOW-INTERNET": "WOW!",
    "GOOGLE-FIBER": "Google Fiber",
    # Canada
    "BACOM": "Bell Canada",
    "ROGERS-COMMUNICATIONS": "Rogers",
    "SHAW": "Shaw",
    "TELUS Communications": "Telus",
    "VIDEOTRON": "Videotron",
    "COGECOWAVE": "Cogeco",
    "EASTLINK-HSI": "Eastlink",
    "SASKTEL": "SaskTel",
    # Latin America
    "UNINET": "Telmex",
    "TOTAL PLAY TELECOMUNICACIONES SA DE CV": "Totalplay",
    "Mega Cable, S.A. de C.V.": "Megacable",
    "TELEFONICA BRASIL S.A": "Vivo (Telefonica Brasil)",
    "Claro NXT Telecomunicacoes Ltda": "Claro Brasil",
    "TIM SA": "TIM Brasil",
    "ALGAR TELECOM SA": "Algar Telecom",
    "Telecom Argentina S.A.": "Telecom Argentina",
    "Telefonica de Argentina": "Movistar Argentina",
    "TELEFONICA CHILE S.A.": "Movistar Chile",
    "VTR BANDA ANCHA S.A.": "VTR",
    "ENTEL CHILE S.A.": "Entel Chile",
    "COMUNICACION CELULAR S.A. COMCEL S.A.": "Claro Colombia",
    "Telmex Colombia S.A.": "Claro Colombia",
    "COLOMBIA TELECOMUNICACIONES S.A. ESP": "Movistar Colombia",
    "Colombia Movil": "Tigo Colombia",
    "EPM Telecomunicaciones S.A. E.S.P.": "Tigo-UNE",
    "Telefonica del Peru S.A.A.": "Movistar Peru",
    "CANTV Servicios, Venezuela": "CANTV",
    "Administracion Nacional de Telecomunicaciones": "Antel",
    # Western Europe
    "Deutsche Telekom AG": "Deutsche Telekom",
    "Vodafone GmbH": "Vodafone Germany",
    "Telefonica Germany": "O2 Germany",
    "1&1 Versatel Deutschland GmbH": "1&1",
    "NetCologne Gesellschaft fur Telekommunikation mbH": "NetCologne",
    "M-net Telekommunikations GmbH": "M-net",
    "EWE-Tel GmbH": "EWE",
    "Orange": "Orange France",
    "Free SAS": "Free (Iliad)",
    "Free Mobile SAS": "Free Mobile",
    "Societe Francaise Du Radiotelephone - SFR SA": "SFR",
    "Bouygues Telecom SA": "Bouygues Telecom",
    "British Telecommunications PLC": "BT",
    "EE Limited": "EE",
    "Sky UK Limited": "Sky UK",
    "Virgin Media": "Virgin Media",
    "TalkTalk": "TalkTalk",
    "Vodafone Limited": "Vodafone UK",
    "Hyperoptic Ltd": "Hyperoptic",
    "Community Fibre Limited": "Community Fibre",
    "Eir Broadband": "eir",
    "KPN B.V.": "KPN",
    "Vodafone Libertel B.V.": "VodafoneZiggo",
    "Odido Netherlands B.V.": "Odido",
    "Proximus NV": "Proximus",
    "Telenet BV": "Telenet",
    "Bluewin": "Swisscom",
    "Sunrise GmbH": "Sunrise",
    "Telecom Italia": "TIM (Telecom Italia)",
    "Fastweb": "Fastweb",
    "Wind Tre S.p.A.": "WindTre",
    "Vodafone Italia S.p.A.": "Vodafone Italy",
    "Telefonica De Espana S.a.u.": "Movistar (Telefonica Spain)",
    "Orange Espagne SA": "Orange Spain",
    "Vodafone Spain": "Vodafone Spain",
    "Vodafone Ono, S.A.": "Vodafone Spain (Ono)",
    "Euskaltel S.A.": "Euskaltel",
    "R Cable y Telecable Telecomunicaciones, S.A.U.": "R Cable y Telecable",
    "Digi Spain Telecom S.l.": "Digi Spain",
    "Servicos De Comunicacoes E Multimedia S.A.": "MEO",
    "Nos Comunicacoes, S.A.": "NOS",
    "Vodafone Portugal - Communicacoes Pessoais S.A.": "Vodafone Portugal",
    "Telekom Austria": "A1 Austria",
    "T-Mobile Austria GmbH": "Magenta Austria",
    # Nordics and Baltics
    "Telia Company AB": "Telia Sweden",
    "Tele2 SWIPnet": "Tele2 Sweden",
    "Bahnhof AB": "Bahnhof",
    "Telenor Norge AS": "Telenor Norway",
    "Telia Norge AS": "Telia Norway",
    "TDC Holding A/S": "TDC",
    "Telenor A/S": "Telenor Denmark",
    "Elisa Oyj": "Elisa",
    "DNA Oyj": "DNA",
    "Telia Finland Oyj": "Telia Finland",
    "Telia Eesti AS": "Telia Estonia",
    "SIA Tet": "Tet",
    "Telia Lietuva, AB": "Telia Lithuania",
    # Central and Eastern Europe
    "Orange Polska Spolka Akcyjna": "Orange Polska",
    "Netia SA": "Netia",
    "T-Mobile Polska S.A.": "T-Mobile Polska",
    "Play": "Play",
    "Vectra S.A.": "Vectra",
    "Multimedia Polska Sp. z o.o.": "Multimedia Polska",
    "INEA sp. z o.o.": "INEA",
    "O2 Czech Republic, a.s.": "O2 Czech Republic",
    "T-Mobile Czech Republic a.s.": "T-Mobile Czech Republic",
    "Vodafone Czech Republic a.s.": "Vodafone Czech Republic",
    "Slovak Telekom, a.s.": "Slovak Telekom",
    "Magyar Telekom plc.": "Magyar Telekom",
    "DIGI Tavkozlesi es Szolgaltato Kft.": "Digi Hungary",
    "Digi Romania S.A.": "Digi Romania",
    "Vivacom Bulgaria EAD": "Vivacom",
    "A1 Bulgaria EAD": "A1 Bulgaria",
    "OTEnet S\\.A\\.": "OTE (Cosmote)",
    "Vodafone-panafon Hellenic Telecommunications Company SA": "Vodafone Greece",
    "Nova Telecommunications & Media Single Member S.A": "Nova Greece",
    "Hrvatski Telekom d.d.": "Hrvatski Telekom",
    "Telekom Slovenije, d.d.": "Telekom Slovenije",
    "TELEKOM SRBIJA a.d.": "Telekom Srbija",
    "Moldtelecom SA": "Moldtelecom",
    "Rostelecom": "Rostelecom",
    "PVimpelCom": "Beeline (VimpelCom)",
    "MTS PJSC": "MTS",
    "PJSC MegaFon": "MegaFon",
    "JSC ER-Telecom Holding": "ER-Telecom (Dom.ru)",
    "JSC Ukrtelecom": "Ukrtelecom",
    "Kyivstar PJSC": "Kyivstar",
    "Republican Unitary Telecommunication Enterprise Beltelecom": "Beltelecom",
    "JSC Kazakhtelecom": "Kazakhtelecom",
    # Turkey, Middle East, Africa
    "Turk Telekom": "Turk Telekom",
    "Superonline Iletisim Hizmetleri A.S.": "Turkcell Superonline",
    "Turkcell Iletisim Hizmetleri A.s.": "Turkcell",
    "Bezeq- THE ISRAEL TELECOMMUNICATION CORP. LTD.": "Bezeq",
    "Hot-Net internet services Ltd.": "HOT",
    "Partner Communications Ltd.": "Partner",
    "Saudi Telecom Company JSC": "STC",
    "Etihad Etisalat, a joint stock company": "Mobily",
    "Emirates Telecommunications Group Company (etisalat Group) Pjsc": "e& (Etisalat UAE)",
    "Emirates Integrated Telecommunications Company PJSC": "du",
    "Ooredoo Q.S.C.": "Ooredoo Qatar",
    "Iran Telecommunication Company PJS": "TCI (Iran Telecom)",
    "Mobile Communication Company of Iran PLC": "MCI (Hamrah-e Aval)",
    "Iran Cell Service and Communication Company": "Irancell",
    "TE Data": "TE Data (Telecom Egypt)",
    "Etisalat Misr": "Etisalat Misr",
    "MOBINIL": "Orange Egypt",
    "Vodafone-EG": "Vodafone Egypt",
    "Itissalat Al-MAGHRIB": "Maroc Telecom",
    "Telecom Algeria": "Algerie Telecom",
    "Tunisie-Telecom": "Tunisie Telecom",
    "SAFARICOM-LIMITED": "Safaricom",
    "MTN NIGERIA Communication limited": "MTN Nigeria",
    "VODACOM": "Vodacom",
    "CELL-C": "Cell C",
    "Telkom-Internet": "Telkom South Africa",
    # South Asia
    "Bharti Airtel Ltd. AS for GPRS Service": "Bharti Airtel (mobile)",
    "Bharti Airtel Ltd., Telemedia Services": "Bharti Airtel (broadband)",
    "Reliance Jio Infocomm Limited": "Reliance Jio",
    "Vodafone Idea Ltd": "Vodafone Idea",
    "National Internet Backbone": "BSNL",
    "Hathway IP Over Cable Internet": "Hathway",
    "Atria Convergence Technologies Pvt. Ltd. Broadband Internet Service Provider INDIA":
        "ACT Fibernet",
    "Pakistan Telecommunication Company Limited": "PTCL",
    "GrameenPhone Ltd.": "Grameenphone",
    "Sri Lanka Telecom Internet": "Sri Lanka Telecom",
    # East Asia
    "NTT Communications Corporation": "NTT OCN",
    "NTT DOCOMO, INC.": "NTT Docomo",
    "SoftBank Corp.": "SoftBank",
    "KDDI CORPORATION": "KDDI (au)",
    "JCOM Co., Ltd.": "J:COM",
    "Sony Network Communications Inc.": "So-net (Sony Network Communications)",
    "BIGLOBE Inc.": "BIGLOBE",
    "OPTAGE Inc.": "OPTAGE (eo)",
    "Asahi Net": "Asahi Net",
    "Chubu Telecommunications Company, Inc.": "Chubu Telecommunications (Commufa)",
    "Rakuten Mobile Network, Inc.": "Rakuten Mobile",
    "Korea Telecom": "KT",
    "SK Broadband Co Ltd": "SK Broadband",
    "SK Telecom": "SK Telecom",
    "LG POWERCOMM": "LG U+",
    "LG HelloVision Corp.": "LG HelloVision",
    "Data Communication Business Group": "Chunghwa Telecom (HiNet)",
    "Far EastTone Telecommunication Co., Ltd.": "Far EasTone",
    "Taiwan Fixed Network, Telco and Network Service Provider.": "Taiwan Fixed Network",
    "HKT Limited": "HKT",
    "Hong Kong Broadband Network Ltd.": "HKBN",
    **_same(_CT_MAN, "CHINANET Guangdong province Dongguan MAN network",
            "CHINANET Guangdong province Foshan MAN network",
            "CHINANET Guangdong province Guangzhou MAN network",
            "CHINANET Guangdong province Shenzhen MAN network",
            "CHINANET Guangdong province Yuedong MAN network",
            "CHINANET Guangdong province Yuexi MAN network",
            "CHINANET Guangdong province Zhusanjiao MAN network",
            "CHINANET Liaoning province Dalian MAN network",
            "CHINATELECOM JIANGSU province NANTONG MAN network",
            "CHINATELECOM Xinjiang Kezhou MAN network",
            "CHINATELECOM Xinjiang Wulumuqi MAN network"),
    # South-East Asia and Oceania
    "True Online": "True Online",
    "TOT Public Company Limited": "TOT (NT)",
    "Triple T Broadband Public Company Limited": "3BB",
    "ADVANCED WIRELESS NETWORK COMPANY LIMITED": "AIS",
    "AIS Fibre": "AIS Fibre",
    "Viettel Group": "Viettel",
    "VNPT Corp": "VNPT",
    "FPT Telecom Company": "FPT Telecom",
    "PT Telekomunikasi Indonesia": "Telkom Indonesia",
    "PT. Telekomunikasi Selular": "Telkomsel",
    "INDOSAT Internet Network Provider": "Indosat",
    "Philippine Long Distance Telephone Company": "PLDT",
    "Globe Telecom Inc.": "Globe Telecom",
    "Converge ICT Solutions Inc.": "Converge ICT",
    "TM TECHNOLOGY SERVICES SDN. BHD.": "TM (Unifi)",
    "Celcom Axiata Berhad": "Celcom",
    "Singtel Fibre Broadband": "Singtel",
    "Starhub Ltd": "StarHub",
    "StarHub Ltd": "StarHub",
    "M1 Limited Next Generation Broadband Network": "M1",
    "Telstra Limited": "Telstra",
    "SingTel Optus Pty Ltd": "Optus",
    "TPG Telecom Limited": "TPG Telecom",
    "Aussie Broadband": "Aussie Broadband",
    "Vocus Retail": "Vocus Retail",
    "Spark New Zealand Trading Ltd.": "Spark New Zealand",
    "One New Zealand Group Limited": "One NZ",
    "2degrees Networks Limited": "2degrees",
}


def label(isp: str) -> str:
    """The fact label of an ISP label from :data:`ORGS`."""
    return f"{isp} (access ISP, by AS organisation)"


def table_sha256() -> str:
    """Content hash of the table (it enters the pack id)."""
    return _org_tables.table_sha256(VERSION, ORGS)


def load(geo: GeoTables) -> Loaded:
    """One residential fact per geo AS network whose organisation is in :data:`ORGS`.

    Names of :data:`ORGS` missing from ``geo`` are skipped (they yield no facts); the tests
    keep the table in step with the shipped geo data.
    """
    note = (
        f"AS organisation of an access ISP (GeoLite2 via geoip2fast, {geo.snapshot}); "
        "AS-level: the same AS also holds business lines, the ISP's own servers and CGNAT "
        "pools; projected to other dates"
    )
    return _org_tables.org_facts(
        geo,
        {org: label(isp) for org, isp in ORGS.items()},
        category=Category.RESIDENTIAL,
        note=note,
        source=SOURCE_NAME,
        kind="access-orgs",
        version=VERSION,
        table_hash=table_sha256(),
    )
